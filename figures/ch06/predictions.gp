# predictions.gp: gnuplot script for predictions.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in predictions.dat. To re-render after editing:
#   cd figures/ch06 && gnuplot predictions.gp

if (!exists("outfile")) outfile = "predictions.png"
set terminal pngcairo size 1800,1300 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "predictions.dat"

set multiplot layout 4,8 title "Test images 0-23 in order, then a row of mistakes. Over each: the prediction; in red: wrong, with the true class" font ',22' margins 0.01,0.99,0.01,0.86 spacing 0.012,0.095
unset key
unset tics
unset colorbox
set size ratio -1
set palette gray
set cbrange [0:255]
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set title "Ankle boot" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 0 matrix with image
set title "Pullover" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 1 matrix with image
set title "Trouser" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 2 matrix with image
set title "Trouser" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 3 matrix with image
set title "Shirt" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 4 matrix with image
set title "Trouser" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 5 matrix with image
set title "Coat" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 6 matrix with image
set title "Shirt" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 7 matrix with image
set title "Sandal" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 8 matrix with image
set title "Sneaker" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 9 matrix with image
set title "Coat" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 10 matrix with image
set title "Sandal" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 11 matrix with image
set title "Bag\n(true: Sneaker)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 12 matrix with image
set title "Dress" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 13 matrix with image
set title "Coat" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 14 matrix with image
set title "Trouser" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 15 matrix with image
set title "Pullover" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 16 matrix with image
set title "Pullover\n(true: Coat)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 17 matrix with image
set title "Bag" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 18 matrix with image
set title "T-shirt/top" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 19 matrix with image
set title "Pullover" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 20 matrix with image
set title "Sandal" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 21 matrix with image
set title "Sneaker" tc rgb '#222222' font ',17'
set border lw 1 lc rgb '#888888'
plot DATA index 22 matrix with image
set title "Sneaker\n(true: Ankle boot)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 23 matrix with image
set title "Pullover\n(true: Coat)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 24 matrix with image
set title "T-shirt/top\n(true: Shirt)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 25 matrix with image
set title "Shirt\n(true: Dress)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 26 matrix with image
set title "Coat\n(true: Pullover)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 27 matrix with image
set title "Shirt\n(true: Pullover)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 28 matrix with image
set title "Shirt\n(true: Coat)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 29 matrix with image
set title "Shirt\n(true: Pullover)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 30 matrix with image
set title "Coat\n(true: Dress)" tc rgb '#d62728' font ',17'
set border lw 4 lc rgb '#d62728'
plot DATA index 31 matrix with image
unset multiplot
