# posemb_similarity.gp: gnuplot script for posemb_similarity.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in posemb_similarity.dat. To re-render after editing:
#   cd figures/ch09 && gnuplot posemb_similarity.gp

if (!exists("outfile")) outfile = "posemb_similarity.png"
set terminal pngcairo size 1500,1500 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "posemb_similarity.dat"

set multiplot title "Cosine similarity of the position embeddings (the paper's Figure 7, centre)\n{/*0.75 tile (r, c): the similarity of patch (r, c)'s embedding with every patch's, on the patch grid}" font ',22'
set palette defined (0 '#440154', 0.1 '#482475', 0.2 '#414487', 0.3 '#355f8d', 0.4 '#2a788e', 0.5 '#21918c', 0.6 '#22a884', 0.7 '#44bf70', 0.8 '#7ad151', 0.9 '#bddf26', 1 '#fde725')
set cbrange [-1:1]
set cblabel 'cosine similarity' font ',16'
set size ratio -1
unset key
set border 0
set tics scale 0 font ',13'
set xlabel font ',15'
set ylabel font ',15'
set title font ',18'
set lmargin at screen 0.0701
set rmargin at screen 0.4399
set tmargin at screen 0.8499
set bmargin at screen 0.4801
set ylabel "input patch row"
set xlabel ""
unset object
set xrange [-0.5:19-0.5]
set yrange [19-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:3] { set object rect from first k*5-1.5, graph 0 to first k*5-0.5, graph 1 @GAP }
do for [k=1:3] { set object rect from graph 0, first k*5-1.5 to graph 1, first k*5-0.5 @GAP }
set object rect from first 20-0.5, first 15-0.5 to graph 1, graph 0 @GAP
set xtics ()
set ytics ()
do for [k=1:4] { set xtics add (sprintf('%d', k) (k-1)*5 + 1.5); set ytics add (sprintf('%d', k) (k-1)*5 + 1.5) }
unset colorbox
set title "ViT, patch 7, at initialisation"
plot DATA index 0 matrix with image
set lmargin at screen 0.5001
set rmargin at screen 0.8699
set tmargin at screen 0.8499
set bmargin at screen 0.4801
set ylabel ""
set xlabel ""
unset object
set xrange [-0.5:19-0.5]
set yrange [19-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:3] { set object rect from first k*5-1.5, graph 0 to first k*5-0.5, graph 1 @GAP }
do for [k=1:3] { set object rect from graph 0, first k*5-1.5 to graph 1, first k*5-0.5 @GAP }
set object rect from first 20-0.5, first 15-0.5 to graph 1, graph 0 @GAP
set xtics ()
set ytics ()
do for [k=1:4] { set xtics add (sprintf('%d', k) (k-1)*5 + 1.5); set ytics add (sprintf('%d', k) (k-1)*5 + 1.5) }
set colorbox user origin screen 0.91, screen 0.5000 size screen 0.015, screen 0.3000
set title "ViT, patch 7, trained"
plot DATA index 1 matrix with image
set lmargin at screen 0.0701
set rmargin at screen 0.4399
set tmargin at screen 0.4199
set bmargin at screen 0.0501
set ylabel "input patch row"
set xlabel "input patch column"
unset object
set xrange [-0.5:55-0.5]
set yrange [55-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:6] { set object rect from first k*8-1.5, graph 0 to first k*8-0.5, graph 1 @GAP }
do for [k=1:6] { set object rect from graph 0, first k*8-1.5 to graph 1, first k*8-0.5 @GAP }
set object rect from first 56-0.5, first 48-0.5 to graph 1, graph 0 @GAP
set xtics ()
set ytics ()
do for [k=1:7] { set xtics add (sprintf('%d', k) (k-1)*8 + 3); set ytics add (sprintf('%d', k) (k-1)*8 + 3) }
unset colorbox
set title "ViT, patch 4, at initialisation"
plot DATA index 2 matrix with image
set lmargin at screen 0.5001
set rmargin at screen 0.8699
set tmargin at screen 0.4199
set bmargin at screen 0.0501
set ylabel ""
set xlabel "input patch column"
unset object
set xrange [-0.5:55-0.5]
set yrange [55-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:6] { set object rect from first k*8-1.5, graph 0 to first k*8-0.5, graph 1 @GAP }
do for [k=1:6] { set object rect from graph 0, first k*8-1.5 to graph 1, first k*8-0.5 @GAP }
set object rect from first 56-0.5, first 48-0.5 to graph 1, graph 0 @GAP
set xtics ()
set ytics ()
do for [k=1:7] { set xtics add (sprintf('%d', k) (k-1)*8 + 3); set ytics add (sprintf('%d', k) (k-1)*8 + 3) }
set colorbox user origin screen 0.91, screen 0.0800 size screen 0.015, screen 0.3000
set title "ViT, patch 4, trained"
plot DATA index 3 matrix with image
unset multiplot
