# class_token_attention.gp: gnuplot script for class_token_attention.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in class_token_attention.dat. To re-render after editing:
#   cd figures/ch04 && gnuplot class_token_attention.gp

if (!exists("outfile")) outfile = "class_token_attention.png"
set terminal pngcairo size 2010,640 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "class_token_attention.dat"

set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set cbrange [0:0.0379]
set label 1 'weight from the class token' at screen 0.975, screen 0.45 rotate by 90 center
set colorbox user origin screen 0.865, screen 0.12 size screen 0.018, screen 0.66
set size ratio -1
unset key
unset border
unset tics
set cbtics out nomirror font ',16'
set cbtics add ('uniform 1/T' 0.0200)
set xrange [-0.5:28-0.5]
set yrange [28-0.5:-0.5]
set multiplot layout 1,4 margins 0.02,0.835,0.04,0.84 spacing 0.02,0.08 \
  title "Where the class token looks, head by head: 4 heads of size 16 on a 7x7 patch grid\n{/*0.8 a Fashion-MNIST Ankle boot, RANDOM weights (seed 1): no meaning yet; uniform would be 0.020}"
set title 'head 1'
plot DATA index 0 using 1:2:3:3:3 with rgbimage, \
     '' index 1 using 1:2:(2):(2):3 with boxxyerror fs transparent solid 0.65 noborder lc palette
set title 'head 2'
plot DATA index 0 using 1:2:3:3:3 with rgbimage, \
     '' index 2 using 1:2:(2):(2):3 with boxxyerror fs transparent solid 0.65 noborder lc palette
set title 'head 3'
plot DATA index 0 using 1:2:3:3:3 with rgbimage, \
     '' index 3 using 1:2:(2):(2):3 with boxxyerror fs transparent solid 0.65 noborder lc palette
set title 'head 4'
plot DATA index 0 using 1:2:3:3:3 with rgbimage, \
     '' index 4 using 1:2:(2):(2):3 with boxxyerror fs transparent solid 0.65 noborder lc palette
unset multiplot
