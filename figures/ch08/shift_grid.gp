# shift_grid.gp: gnuplot script for shift_grid.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in shift_grid.dat. To re-render after editing:
#   cd figures/ch08 && gnuplot shift_grid.gp

if (!exists("outfile")) outfile = "shift_grid.png"
set terminal pngcairo size 1700,1500 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "shift_grid.dat"

set multiplot layout 4,5 title "Shift, then apply f; or apply f, then shift\n{/*0.8 a convolution gives the same map (but at a zero-padded border); a patch embedding, only for whole patches}" font ',22'
unset key
unset xtics
unset ytics
unset colorbox
set size ratio -1
set title font ',16'
DIVERGING = "defined (-1 '#2166ac', 0 'white', 1 '#b2182b')"
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "3x3 Sobel filter,\ncircular padding"
plot DATA index 0 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "shifted by (4, 6)\nwith wrap-around"
plot DATA index 1 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.88627:2.88627]
set title "f(image)\n"
plot DATA index 2 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.88627:2.88627]
set title "f(shifted)\n"
plot DATA index 3 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.88627:2.88627]
set title "f(shifted) moved back\n− f(image): max 0"
plot DATA index 4 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "5x5 filter, zero padding,\non noise"
plot DATA index 5 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "shifted by (3, 5)\nblack comes in"
plot DATA index 6 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-1.29946:1.29946]
set title "f(image)\n"
plot DATA index 7 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-1.29946:1.29946]
set title "f(shifted)\n"
plot DATA index 8 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-1.29946:1.29946]
set title "f(shifted) − shifted\nf(image): max 0.72"
plot DATA index 9 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "ViT patch embedding\n(one channel)"
plot DATA index 10 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "shifted by (0, 1)\nwith wrap-around"
plot DATA index 11 matrix with image
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.2629:2.2629]
set title "f(image)\n"
plot DATA index 12 matrix with image
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.2629:2.2629]
set title "f(shifted)\n"
plot DATA index 13 matrix with image
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.2629:2.2629]
set title "f(shifted) − f(image)\n(no move): max 0.63"
plot DATA index 14 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "ViT patch embedding\n(one channel)"
plot DATA index 15 matrix with image
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
unset border
set palette gray
set cbrange [0:1]
set title "shifted by (0, 7)\nwith wrap-around"
plot DATA index 16 matrix with image
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.2629:2.2629]
set title "f(image)\n"
plot DATA index 17 matrix with image
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.2629:2.2629]
set title "f(shifted)\n"
plot DATA index 18 matrix with image
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set border 15 lw 2 lc rgb '#999999'
set palette @DIVERGING
set cbrange [-2.2629:2.2629]
set title "f(shifted) moved back 1\n− f(image): max 0"
plot DATA index 19 matrix with image
unset multiplot
