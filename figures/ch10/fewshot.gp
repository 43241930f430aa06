# fewshot.gp: gnuplot script for fewshot.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in fewshot.dat. To re-render after editing:
#   cd figures/ch10 && gnuplot fewshot.gp

if (!exists("outfile")) outfile = "fewshot.png"
set terminal pngcairo size 1900,850 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "fewshot.dat"

set multiplot layout 1,2 title "Few-shot linear probes: regularised least squares on frozen features\n{/*0.75 mean test accuracy over 5 draws of the shots; bars: the lowest and highest draw}" font ',22'
set grid
set tics font ',15'
set logscale x
set xrange [0.8:32]
set xtics (1, 5, 10, 25)
set xlabel 'labelled images a class' font ',17'
set ylabel 'test accuracy' font ',17'
set format y '%.0f%%'
set yrange [0:100]
set key bottom right font ',14'
set title font ',19'
set title "all 10 classes"
plot DATA index 0 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#2ca02c' title "chapter 06's ViT (trained on all 10 classes)", \
     DATA index 1 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#1f77b4' title "the same ViT at initialisation", \
     DATA index 2 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#7f7f7f' title "raw pixels (784 features)"
set title "classes 5-9, never seen by the transfer ViT"
plot DATA index 3 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#d62728' title "ViT trained on classes 0-4 only", \
     DATA index 4 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#1f77b4' title "the same ViT at initialisation", \
     DATA index 5 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#7f7f7f' title "raw pixels (784 features)", \
     DATA index 6 using 1:($2*100):($3*100):($4*100) with yerrorlines lw 4 pt 7 ps 1.6 lc rgb '#2ca02c' title "chapter 06's ViT (saw classes 5-9 too)"
unset multiplot
