# sincos_components.gp: gnuplot script for sincos_components.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in sincos_components.dat. To re-render after editing:
#   cd figures/ch02 && gnuplot sincos_components.gp

if (!exists("outfile")) outfile = "sincos_components.png"
set terminal pngcairo size 1600,900 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "sincos_components.dat"

set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set cbrange [-1:1]
unset colorbox
set size ratio -1
unset key
unset tics
set xrange [-0.5:14-0.5]
set yrange [14-0.5:-0.5]
set multiplot layout 2,4 title "2D sin-cos position embedding (width 64) on a 14x14 patch grid\n{/*0.8 top: some of its sin(x {/Symbol w}) dimensions (x the patch column); bottom: cos(y {/Symbol w}) (y the row); purple -1, yellow +1}"
set title "dim 0: sin(1 x)"
plot DATA index 0 matrix with image
set title "dim 2: sin(0.293 x)"
plot DATA index 1 matrix with image
set title "dim 4: sin(0.0858 x)"
plot DATA index 2 matrix with image
set title "dim 8: sin(0.00736 x)"
plot DATA index 3 matrix with image
set title "dim 48: cos(1 y)"
plot DATA index 4 matrix with image
set title "dim 50: cos(0.293 y)"
plot DATA index 5 matrix with image
set title "dim 52: cos(0.0858 y)"
plot DATA index 6 matrix with image
set title "dim 56: cos(0.00736 y)"
plot DATA index 7 matrix with image
unset multiplot
