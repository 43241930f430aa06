# training_curves.gp: gnuplot script for training_curves.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in training_curves.dat. To re-render after editing:
#   cd figures/ch06 && gnuplot training_curves.gp

if (!exists("outfile")) outfile = "training_curves.png"
set terminal pngcairo size 1800,750 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "training_curves.dat"

set multiplot layout 1,2 title "ViT (C = 64, L = 6, patch 7) on Fashion-MNIST: final test accuracy 89.22%" font ',22'
set grid
set tics font ',16'
set xlabel 'epoch' font ',18'
set xrange [0.5:8.5]
set xtics 1
set key font ',16'
set title 'training loss' font ',20'
set key top right
set yrange [0:*]
plot DATA using 1:2 with linespoints lw 4 pt 7 ps 1.5 lc rgb '#1f77b4' title 'mean over the epoch'
set title 'accuracy' font ',20'
set key bottom right
set yrange [*:100]
set format y '%.0f%%'
plot DATA using 1:($3*100) with linespoints lw 4 pt 5 ps 1.5 lc rgb '#ff7f0e' title 'training images (during the epoch)', \
     '' using 1:($4*100) with linespoints lw 4 pt 7 ps 1.5 lc rgb '#2ca02c' title 'test images (after the epoch)'
unset multiplot
