# equivariance_error.gp: gnuplot script for equivariance_error.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in equivariance_error.dat. To re-render after editing:
#   cd figures/ch08 && gnuplot equivariance_error.gp

if (!exists("outfile")) outfile = "equivariance_error.png"
set terminal pngcairo size 2000,850 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "equivariance_error.dat"

set multiplot layout 1,2 title "Equivariance error ‖f(Tx) − T f(x)‖ / ‖f(x)‖ on 1,000 test images shifted right by s pixels\n{/*0.75 T moves f's output by the nearest whole number of its positions (the better of the two); shifts wrap around unless said}" font ',22'
set grid
set tics font ',16'
set xlabel 'shift s (pixels)' font ',18'
set xrange [0:14]
set xtics 1
set key top left Left reverse font ',15' spacing 1.1
set title 'convolutions (8 random 5x5 filters)' font ',20'
set yrange [0:0.5]
plot DATA using 1:2 with linespoints lw 8 pt 7 ps 1.2 lc rgb '#1f77b4' title 'convolution, circular padding',      DATA using 1:3 with linespoints lw 3 pt 7 ps 1.2 lc rgb '#ff7f0e' title 'convolution, zero padding (zero fill)',      DATA using 1:4 with linespoints lw 3 pt 7 ps 1.2 lc rgb '#2ca02c' title 'convolution, stride 2',      DATA using 1:5 with linespoints lw 3 pt 7 ps 1.2 lc rgb '#d62728' title 'convolution + 3x3/2 max pool',      DATA using 1:6 with linespoints lw 3 pt 6 ps 1.6 dt 2 lc rgb '#9467bd' title 'convolution + global average pool (0, with the blue)'
set title 'chapter 06 ViT (patch 7): its tokens' font ',20'
set xtics add ('P' 7, '2P' 14)
set key top center
set yrange [0:2.3]
plot DATA using 1:7 with linespoints lw 4 pt 7 ps 1.4 lc rgb '#000000' title 'ViT patch embedding',      DATA using 1:8 with linespoints lw 3 pt 5 ps 1.2 lc rgb '#8c564b' title '+ position embeddings',      DATA using 1:9 with linespoints lw 3 pt 7 ps 0 lc rgb '#c8c8ff' title 'after block 1',      DATA using 1:10 with linespoints lw 3 pt 7 ps 0 lc rgb '#a2a2ff' notitle,      DATA using 1:11 with linespoints lw 3 pt 7 ps 0 lc rgb '#7c7cff' notitle,      DATA using 1:12 with linespoints lw 3 pt 7 ps 0 lc rgb '#5656ff' notitle,      DATA using 1:13 with linespoints lw 3 pt 7 ps 0 lc rgb '#3030ff' notitle,      DATA using 1:14 with linespoints lw 3 pt 7 ps 0 lc rgb '#0a0aff' title 'after block 6 (2 to 5 in between)',      DATA using 1:15 with linespoints lw 4 pt 9 ps 1.6 dt 2 lc rgb '#e377c2' title 'after the last block, no position embeddings',      DATA using 1:16 with linespoints lw 3 pt 4 ps 1.4 lc rgb '#17becf' title 'class token (what the head reads)',      DATA using 1:17 with linespoints lw 3 pt 6 ps 1.4 dt 3 lc rgb '#bcbd22' title 'class token, no position embeddings'
unset multiplot
