# accuracy_vs_labels.gp: gnuplot script for accuracy_vs_labels.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in accuracy_vs_labels.dat. To re-render after editing:
#   cd figures/ch12 && gnuplot accuracy_vs_labels.gp

if (!exists("outfile")) outfile = "accuracy_vs_labels.png"
set terminal pngcairo size 1600,1100 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "accuracy_vs_labels.dat"

set title "Few labels: from scratch, self-supervised first, supervised first\n{/*0.75 fine-tuned (solid): every run 10 epochs of its labels or 400 steps of 128 if more; linear probes of the frozen features (dashed)}" font ',22'
set logscale x
set grid
set tics font ',16'
set key below horizontal maxrows 2 width 2 font ',16'
set xlabel 'labelled training images' font ',18'
set ylabel 'test accuracy' font ',18'
set format y '%.0f%%'
set xrange [666.667:7500]
set xtics ("1,000" 1000, "5,000" 5000)
plot DATA using 1:($2*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#1f77b4' title '(a) from scratch', \
     DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#ff7f0e' title '(b) self-supervised, fine-tuned', \
     DATA using 1:($4*100) with lines lw 4 lc rgb '#2ca02c' title '(c) chapter 06 (all 60,000 labels)', \
     DATA using 1:($5*100) with linespoints lw 3 dt 2 pt 6 ps 1.6 lc rgb '#1f77b4' title 'probe of (a)', \
     DATA using 1:($6*100) with linespoints lw 3 dt 2 pt 6 ps 1.6 lc rgb '#ff7f0e' title 'probe of (b), frozen before fine-tuning', \
     DATA using 1:($7*100) with linespoints lw 3 dt 2 pt 6 ps 1.6 lc rgb '#2ca02c' title 'probe of (c)'
