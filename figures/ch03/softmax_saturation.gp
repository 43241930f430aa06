# softmax_saturation.gp: gnuplot script for softmax_saturation.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in softmax_saturation.dat. To re-render after editing:
#   cd figures/ch03 && gnuplot softmax_saturation.gp

if (!exists("outfile")) outfile = "softmax_saturation.png"
set terminal pngcairo size 1800,800 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "softmax_saturation.dat"

set multiplot layout 1,2 title "Softmax over 17 random keys: without the 1/sqrt(d_k) scale it saturates (mean of 200 draws)"
set logscale x 2
set xrange [1:1024]
set xtics (1, 4, 16, 64, 256, 1024)
set grid
set key at graph 0.98, graph 0.5 right top opaque box samplen 2
set xlabel 'head size d_k'
set ylabel 'mean largest weight in a row'
set yrange [0:1.05]
set title 'largest weight (1 = one-hot)'
plot DATA using 1:2 with linespoints lw 3 pt 7 lc rgb '#d62728' title 'unscaled: q·k', \
     '' using 1:3 with linespoints lw 3 pt 5 lc rgb '#1f77b4' title 'scaled: q·k / sqrt(d_k)', \
     1.0/17 with lines dt 2 lw 2 lc rgb 'gray40' title 'uniform: 1/17'
set ylabel 'mean entropy of a row (nats)'
set yrange [0:3.11653]
set key at graph 0.98, graph 0.72 right top opaque box samplen 2
set title 'entropy (0 = one-hot)'
plot DATA using 1:4 with linespoints lw 3 pt 7 lc rgb '#d62728' title 'unscaled: q·k', \
     '' using 1:5 with linespoints lw 3 pt 5 lc rgb '#1f77b4' title 'scaled: q·k / sqrt(d_k)', \
     log(17) with lines dt 2 lw 2 lc rgb 'gray40' title 'uniform: ln 17 = 2.83'
unset multiplot
