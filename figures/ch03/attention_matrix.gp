# attention_matrix.gp: gnuplot script for attention_matrix.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in attention_matrix.dat. To re-render after editing:
#   cd figures/ch03 && gnuplot attention_matrix.gp

if (!exists("outfile")) outfile = "attention_matrix.png"
set terminal pngcairo size 1800,860 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "attention_matrix.dat"

set multiplot title "One attention head on a Fashion-MNIST Ankle boot (random weights, d_k = 16, seed 1)"
# left: the image, each patch labelled with its token number
set lmargin at screen 0.03
set rmargin at screen 0.36
set tmargin at screen 0.86
set bmargin at screen 0.12
set size ratio -1
unset key
unset border
unset tics
unset colorbox
set palette gray
set cbrange [0:1]
set xrange [-0.5:28-0.5]
set yrange [28-0.5:-0.5]
do for [i=1:3] { set arrow from i*7-0.5, graph 0 to i*7-0.5, graph 1 nohead front lc rgb '#e8543e' lw 1.5 }
do for [j=1:3] { set arrow from graph 0, first j*7-0.5 to graph 1, first j*7-0.5 nohead front lc rgb '#e8543e' lw 1.5 }
set title 'token n = patch n (token 0: the class token)'
plot DATA index 0 using 1:2:3 with image, \
     '' index 1 using 1:2:3 with labels font ',20' textcolor rgb '#ffd23f'
unset arrow
# right: the attention weights
set lmargin at screen 0.45
set rmargin at screen 0.88
set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set cbrange [0:*]
set colorbox
set cblabel 'attention weight'
set border
set tics out nomirror font ',14'
set xtics ('cls' 0, '1' 1, '2' 2, '3' 3, '4' 4, '5' 5, '6' 6, '7' 7, '8' 8, '9' 9, '10' 10, '11' 11, '12' 12, '13' 13, '14' 14, '15' 15, '16' 16)
set ytics ('cls' 0, '1' 1, '2' 2, '3' 3, '4' 4, '5' 5, '6' 6, '7' 7, '8' 8, '9' 9, '10' 10, '11' 11, '12' 12, '13' 13, '14' 14, '15' 15, '16' 16)
set xrange [-0.5:17-0.5]
set yrange [17-0.5:-0.5]
set xlabel 'key token j (looked at)'
set ylabel 'query token i (looking)'
set title 'softmax(Q K^T / sqrt(d_k)): each row sums to 1'
plot DATA index 2 matrix with image
unset multiplot
