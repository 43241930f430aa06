# posemb_similarity.gp: gnuplot script for posemb_similarity.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in posemb_similarity.dat. To re-render after editing:
#   cd figures/ch02 && gnuplot posemb_similarity.gp

if (!exists("outfile")) outfile = "posemb_similarity.png"
set terminal pngcairo size 2000,1050 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "posemb_similarity.dat"

set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set cbrange [-1:1]
set cblabel 'cosine similarity'
set size ratio -1
unset key
set border 0
set tics scale 0 font ',14'
set xrange [-0.5:209-0.5]
set yrange [209-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:13] { set object rect from first k*15-1.5, graph 0 to first k*15-0.5, graph 1 @GAP }
do for [k=1:13] { set object rect from graph 0, first k*15-1.5 to graph 1, first k*15-0.5 @GAP }
set object rect from first 210-0.5, first 195-0.5 to graph 1, graph 0 @GAP
set xtics ()
set ytics ()
do for [k=1:14] { set xtics add (sprintf('%d', k) (k-1)*15 + 6.5); set ytics add (sprintf('%d', k) (k-1)*15 + 6.5) }
set xlabel 'input patch column'
set ylabel 'input patch row'
set multiplot title "Cosine similarity of position embeddings, 14x14 patches, width 64"
set tmargin at screen 0.88
set bmargin at screen 0.1
set lmargin at screen 0.05
set rmargin at screen 0.45
unset colorbox
set title "learned 1D, at initialisation"
plot DATA index 0 matrix with image
set lmargin at screen 0.51
set rmargin at screen 0.91
set colorbox
set title "fixed 2D sin-cos"
plot DATA index 1 matrix with image
unset multiplot
