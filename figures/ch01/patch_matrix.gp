# patch_matrix.gp: gnuplot script for patch_matrix.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in patch_matrix.dat. To re-render after editing:
#   cd figures/ch01 && gnuplot patch_matrix.gp

if (!exists("outfile")) outfile = "patch_matrix.png"
set terminal pngcairo size 1280,640 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "patch_matrix.dat"

set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set title 'The patch sequence as a matrix: one token per row'
set xlabel 'number within the patch (channel, row, column): 49 in all'
set ylabel 'token = patch index'
set xrange [-0.5:49-0.5]
set yrange [16-0.5:-0.5]
set ytics 1
set cbrange [0:1]
set cblabel 'pixel value'
plot DATA matrix with image notitle
