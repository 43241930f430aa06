# confusion_matrix.gp: gnuplot script for confusion_matrix.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in confusion_matrix.dat. To re-render after editing:
#   cd figures/ch06 && gnuplot confusion_matrix.gp

if (!exists("outfile")) outfile = "confusion_matrix.png"
set terminal pngcairo size 1300,1150 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "confusion_matrix.dat"

set title "Confusion matrix on the 10,000 test images (accuracy 89.22%)" font ',22'
set xtics ("T-shirt/top" 0, "Trouser" 1, "Pullover" 2, "Dress" 3, "Coat" 4, "Sandal" 5, "Shirt" 6, "Sneaker" 7, "Bag" 8, "Ankle boot" 9) rotate by 40 right font ',16'
set ytics ("T-shirt/top" 0, "Trouser" 1, "Pullover" 2, "Dress" 3, "Coat" 4, "Sandal" 5, "Shirt" 6, "Sneaker" 7, "Bag" 8, "Ankle boot" 9) font ',16'
set xlabel 'predicted class' font ',18'
set ylabel 'true class' font ',18'
set size ratio -1
set xrange [-0.5:9.5]
set yrange [9.5:-0.5]
set tics scale 0
set palette defined (0 '#ffffff', 1 '#c6dbef', 3 '#4292c6', 6 '#08306b')
set cbrange [0:978]
set cblabel 'images' font ',16'
set cbtics font ',14'
set object 1 rectangle from -0.5,-0.5 to 9.5,9.5 fc rgb '#ffffff' behind
plot DATA index 0 matrix with image notitle, \
     '' index 1 using 1:2:($3 > 489 ? sprintf('%d', $3) : '') with labels tc rgb '#ffffff' font ',15' notitle, \
     '' index 1 using 1:2:($3 > 0 && $3 <= 489 ? sprintf('%d', $3) : '') with labels tc rgb '#000000' font ',15' notitle
