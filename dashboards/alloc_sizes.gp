# Allocation size histogram: requests (allocations, reallocations, resizes and
# failed requests) per requested size, or per power-of-two range of sizes.
# Input: alloc_sizes.csv (size_lo, size_hi, label, requests).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/alloc_sizes.csv'

set title 'Requested sizes. '.session_title
set xlabel 'requested size (bytes)'
set ylabel 'requests'
set style fill solid 0.85 border lc rgb '#555555'
set boxwidth 0.75
set yrange [0:*]
set offsets 0.5, 0.5, 0, 0
set xtics rotate by -45
unset key
plot f using 0:4:xtic(3) with boxes lc rgb '#1f77b4'
