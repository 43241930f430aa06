# data_hunger.gp: gnuplot script for data_hunger.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in data_hunger.dat. To re-render after editing:
#   cd figures/ch07 && gnuplot data_hunger.gp

if (!exists("outfile")) outfile = "data_hunger.png"
set terminal pngcairo size 1600,1000 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "data_hunger.dat"

set title "Test accuracy (all 10,000 test images) against training images\n{/*0.75 every run: 4 epochs of its subset, or 200 steps of 128 images if that is more; the same recipe for the three; the last epoch's model}" font ',22'
set logscale x
set grid
set tics font ',16'
set key bottom right font ',18'
set xlabel 'training images (nested random subsets of the 60,000)' font ',18'
set ylabel 'test accuracy' font ',18'
set format y '%.0f%%'
set xrange [666.667:90000]
set xtics ("1,000" 1000, "3,000" 3000, "10,000" 10000, "60,000" 60000)
plot DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#1f77b4' title 'ViT', \
     DATA using 1:($4*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#ff7f0e' title 'hybrid', \
     DATA using 1:($5*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#2ca02c' title 'CNN'
