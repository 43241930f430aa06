# shift_invariance.gp: gnuplot script for shift_invariance.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in shift_invariance.dat. To re-render after editing:
#   cd figures/ch08 && gnuplot shift_invariance.gp

if (!exists("outfile")) outfile = "shift_invariance.png"
set terminal pngcairo size 1900,800 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "shift_invariance.dat"

set multiplot layout 1,2 title "The trained classifiers on 1,000 test images moved by s pixels (black comes in)\n{/*0.75 solid: moved left-right; dashed: up-down}" font ',22'
set grid
set tics font ',16'
set xlabel 'shift s (pixels)' font ',18'
set xrange [-6:6]
set xtics 1
set format y '%.0f%%'
set key font ',16'
set title 'test accuracy' font ',20'
set key bottom center
set yrange [0:100]
plot DATA using 1:($2*100) with linespoints lw 3 pt 7 ps 1.1 dt 1 lc rgb '#1f77b4' title 'ViT', \
     DATA using 1:($4*100) with linespoints lw 3 pt 7 ps 1.1 dt 2 lc rgb '#1f77b4' title '', \
     DATA using 1:($6*100) with linespoints lw 3 pt 7 ps 1.1 dt 1 lc rgb '#ff7f0e' title 'hybrid', \
     DATA using 1:($8*100) with linespoints lw 3 pt 7 ps 1.1 dt 2 lc rgb '#ff7f0e' title '', \
     DATA using 1:($10*100) with linespoints lw 3 pt 7 ps 1.1 dt 1 lc rgb '#2ca02c' title 'CNN', \
     DATA using 1:($12*100) with linespoints lw 3 pt 7 ps 1.1 dt 2 lc rgb '#2ca02c' title ''
set title 'predictions changed by the move' font ',20'
set key top center
set yrange [0:100]
plot DATA using 1:($3*100) with linespoints lw 3 pt 7 ps 1.1 dt 1 lc rgb '#1f77b4' title 'ViT', \
     DATA using 1:($5*100) with linespoints lw 3 pt 7 ps 1.1 dt 2 lc rgb '#1f77b4' title '', \
     DATA using 1:($7*100) with linespoints lw 3 pt 7 ps 1.1 dt 1 lc rgb '#ff7f0e' title 'hybrid', \
     DATA using 1:($9*100) with linespoints lw 3 pt 7 ps 1.1 dt 2 lc rgb '#ff7f0e' title '', \
     DATA using 1:($11*100) with linespoints lw 3 pt 7 ps 1.1 dt 1 lc rgb '#2ca02c' title 'CNN', \
     DATA using 1:($13*100) with linespoints lw 3 pt 7 ps 1.1 dt 2 lc rgb '#2ca02c' title ''
unset multiplot
