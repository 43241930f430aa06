# pretraining.gp: gnuplot script for pretraining.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in pretraining.dat. To re-render after editing:
#   cd figures/ch12 && gnuplot pretraining.gp

if (!exists("outfile")) outfile = "pretraining.png"
set terminal pngcairo size 1800,800 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "pretraining.dat"

set multiplot layout 1,2 title "Pre-training without labels: predicting the mean intensity of corrupted patches (8 levels)" font ',22'
set grid
set tics font ',16'
set key font ',16'
set xlabel 'epoch' font ',18'
set xrange [0:4]
set xtics 1
set title 'pretext loss (cross-entropy, corrupted patches)' font ',18'
set key top right
plot DATA using 1:2 with linespoints lw 4 pt 7 ps 1.6 lc rgb '#ff7f0e' title 'training'
set title 'pretext accuracy' font ',18'
set key top left
set format y '%.0f%%'
set ylabel 'patches whose level is right' font ',16'
plot DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 1.6 lc rgb '#ff7f0e' title 'training', \
     DATA using 1:($4*100) with linespoints lw 4 pt 5 ps 1.6 lc rgb '#1f77b4' title 'test (2000 images)', \
     37.7344 with lines dt 2 lw 3 lc rgb '#555555' title 'always the most common level'
unset multiplot
