# posemb_interpolated.gp: gnuplot script for posemb_interpolated.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in posemb_interpolated.dat. To re-render after editing:
#   cd figures/ch10 && gnuplot posemb_interpolated.gp

if (!exists("outfile")) outfile = "posemb_interpolated.png"
set terminal pngcairo size 1800,760 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "posemb_interpolated.dat"

set multiplot title "Position embeddings carried from a 4x4 grid to 8x8\n{/*0.75 tile (r, c): cosine similarity of patch (r, c)'s embedding with every patch's}" font ',22'
set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set cbrange [-1:1]
unset key
set size ratio -1
unset tics
set border 0
unset colorbox
set title font ',18'
set lmargin at screen 0.0200
set rmargin at screen 0.3000
set tmargin at screen 0.80
set bmargin at screen 0.08
unset object
set xrange [-0.5:19-0.5]
set yrange [19-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:3] { set object rect from first k*5-1.5, graph 0 to first k*5-0.5, graph 1 @GAP }
do for [k=1:3] { set object rect from graph 0, first k*5-1.5 to graph 1, first k*5-0.5 @GAP }
set object rect from first 20-0.5, first 15-0.5 to graph 1, graph 0 @GAP
set title "trained at 28x28 (4x4)"
plot DATA index 0 matrix with image
set lmargin at screen 0.3400
set rmargin at screen 0.6200
set tmargin at screen 0.80
set bmargin at screen 0.08
unset object
set xrange [-0.5:71-0.5]
set yrange [71-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:7] { set object rect from first k*9-1.5, graph 0 to first k*9-0.5, graph 1 @GAP }
do for [k=1:7] { set object rect from graph 0, first k*9-1.5 to graph 1, first k*9-0.5 @GAP }
set object rect from first 72-0.5, first 63-0.5 to graph 1, graph 0 @GAP
set title "interpolated to 8x8"
plot DATA index 1 matrix with image
set colorbox user origin screen 0.955, screen 0.2 size screen 0.012, screen 0.5
set cbtics font ',13'
set lmargin at screen 0.6600
set rmargin at screen 0.9400
set tmargin at screen 0.80
set bmargin at screen 0.08
unset object
set xrange [-0.5:71-0.5]
set yrange [71-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:7] { set object rect from first k*9-1.5, graph 0 to first k*9-0.5, graph 1 @GAP }
do for [k=1:7] { set object rect from graph 0, first k*9-1.5 to graph 1, first k*9-0.5 @GAP }
set object rect from first 72-0.5, first 63-0.5 to graph 1, graph 0 @GAP
set title "8x8 after the fine-tune"
plot DATA index 2 matrix with image
unset multiplot
