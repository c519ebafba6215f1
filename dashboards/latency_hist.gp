# Latency histograms per thread: wakeups by the time to the thread's next run.
# Bins are equally wide up to the largest p99; the last one holds the rest.
# Input: latency_hist.csv (lo, hi, one column of counts per thread).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/latency_hist.csv'

set title 'Wakeup-to-run latency per thread. '.session_title
set xlabel 'latency ('.latency_unit.')'
set ylabel 'wakeups'
set yrange [0:*]
set style fill transparent solid 0.3 border
plot for [i=3:2 + latency_threads] f using (($1 + $2) / 2):i:($2 - $1) with boxes lc rgb colour(i - 2) title columnhead(i)
