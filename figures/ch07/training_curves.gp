# training_curves.gp: gnuplot script for training_curves.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in training_curves.dat. To re-render after editing:
#   cd figures/ch07 && gnuplot training_curves.gp

if (!exists("outfile")) outfile = "training_curves.png"
set terminal pngcairo size 1800,750 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "training_curves.dat"

set multiplot layout 1,2 title "Training on 60,000 images: the ViT, the hybrid and the CNN" font ',22'
set grid
set tics font ',16'
set xlabel 'epoch' font ',18'
set xtics 1
set xrange [0.5:4.5]
set key font ',16'
set title 'training loss (mean over the epoch)' font ',20'
set key top right
plot DATA index 0 using 1:2 with linespoints lw 4 pt 7 ps 1.5 lc rgb '#1f77b4' title 'ViT', \
     DATA index 1 using 1:2 with linespoints lw 4 pt 7 ps 1.5 lc rgb '#ff7f0e' title 'hybrid', \
     DATA index 2 using 1:2 with linespoints lw 4 pt 7 ps 1.5 lc rgb '#2ca02c' title 'CNN'
set title 'test accuracy (after the epoch)' font ',20'
set key bottom right
set format y '%.0f%%'
plot DATA index 0 using 1:($4*100) with linespoints lw 4 pt 7 ps 1.5 lc rgb '#1f77b4' title 'ViT', \
     DATA index 1 using 1:($4*100) with linespoints lw 4 pt 7 ps 1.5 lc rgb '#ff7f0e' title 'hybrid', \
     DATA index 2 using 1:($4*100) with linespoints lw 4 pt 7 ps 1.5 lc rgb '#2ca02c' title 'CNN'
unset multiplot
