# accuracy_table.gp: gnuplot script for accuracy_table.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in accuracy_table.dat. To re-render after editing:
#   cd figures/ch07 && gnuplot accuracy_table.gp

if (!exists("outfile")) outfile = "accuracy_table.png"
set terminal pngcairo size 1600,600 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "accuracy_table.dat"

set title "Fashion-MNIST, 60,000 training images, one recipe (AdamW, cosine, label smoothing 0.1)" font ',22'
unset border
unset tics
unset key
set xrange [0:5]
set yrange [-0.5:5.5]
set label 1 'model' at 0.1,5 font ',20:Bold'
set label 2 'parameters' at 1.7,5 center font ',20:Bold'
set label 3 'MFLOPs / image' at 2.6,5 center font ',20:Bold'
set label 4 'epochs' at 3.45,5 center font ',20:Bold'
set label 5 'test accuracy' at 4.35,5 center font ',20:Bold'
set arrow 1 from 0.05,4.5 to 4.95,4.5 nohead lw 2
plot DATA using (0.1):(4-$0):1 with labels left font ',20', \
     '' using (1.7):(4-$0):2 with labels center font ',20', \
     '' using (2.6):(4-$0):3 with labels center font ',20', \
     '' using (3.45):(4-$0):4 with labels center font ',20', \
     '' using (4.35):(4-$0):5 with labels center font ',20'
