# residual_depth.gp: gnuplot script for residual_depth.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in residual_depth.dat. To re-render after editing:
#   cd figures/ch05 && gnuplot residual_depth.gp

if (!exists("outfile")) outfile = "residual_depth.png"
set terminal pngcairo size 1600,700 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "residual_depth.dat"

set multiplot layout 1,2 title "Pre-LN blocks at initialisation: C = 64, 24 blocks, seed 0, 8 test images" font ',18'
set grid
set key top left font ',14'
set tics font ',14'
set xlabel 'blocks applied' font ',16'
set xrange [0:24]
set title 'sizes (RMS)' font ',16'
set yrange [0:*]
plot DATA using 1:2 with linespoints lw 3 pt 7 lc rgb '#1f77b4' title 'residual stream z_l', \
     '' using 1:3 with linespoints lw 3 pt 5 lc rgb '#e8543e' title 'attention adds', \
     '' using 1:4 with linespoints lw 3 pt 9 lc rgb '#2ca02c' title 'MLP adds'
set title 'how much each block changes the stream' font ',16'
set ylabel 'RMS(z_l - z_{l-1}) / RMS(z_{l-1})' font ',14'
set key top right
plot DATA using 1:5 with linespoints lw 3 pt 7 lc rgb '#9467bd' title 'relative update'
unset multiplot
