# variants.gp: gnuplot script for variants.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in variants.dat. To re-render after editing:
#   cd figures/ch05 && gnuplot variants.gp

if (!exists("outfile")) outfile = "variants.png"
set terminal pngcairo size 1600,750 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "variants.dat"

set multiplot layout 1,2 title "The ViT variants at 224x224, 1000 classes" font ',20'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid ytics
set key top left font ',14'
set tics font ',14'
set title 'parameters (millions)' font ',16'
set yrange [1:3000]
plot DATA using 2:xtic(1) lc rgb '#1f77b4' title 'patch 16', \
     '' using 3 lc rgb '#ff9f1c' title 'patch 32', \
     '' using ($0-1.0/6):2:(sprintf($2 < 10 ? '%.1f' : '%.0f', $2)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle, \
     '' using ($0+1.0/6):3:(sprintf($3 < 10 ? '%.1f' : '%.0f', $3)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle
set title 'GFLOPs per image (multiply-add = 2)' font ',16'
set yrange [0.5:2000]
plot DATA using 4:xtic(1) lc rgb '#1f77b4' title 'patch 16', \
     '' using 5 lc rgb '#ff9f1c' title 'patch 32', \
     '' using ($0-1.0/6):4:(sprintf('%.1f', $4)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle, \
     '' using ($0+1.0/6):5:(sprintf('%.1f', $5)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle
unset multiplot
