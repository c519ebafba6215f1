# Timeline (Gantt) of threads and fibers over the dashboard's window (--from/--to):
# thread runs (enter to exit) and fiber runs (resumed to yielded/completed),
# one row each, wakeups marked on the woken thread's row. When the window held more
# rows than comb draws, meta.gp's window_truncated is 1 and the title says where it was cut.
# Input: timeline.csv (row, label, start, end, kind run|fiber|wakeup).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/timeline.csv'

if (!exists('window_truncated')) { window_truncated = 0 }  # meta.gp of an older comb
cut = window_truncated ? sprintf("\nCut at %d rows: drawn up to %.6f %s of the %.6f asked; narrow it with --from/--to", \
                                 window_max_rows, window_to, time_unit, window_asked_to) : ''
set title sprintf('Threads and fibers from %.6f to %.6f %s. %s', window_from, window_to, time_unit, session_title).cut
set xlabel time_label
set yrange [*:*] reverse
set offsets 0, 0, 0.6, 0.6
set ytics scale 0
set grid noytics
set xrange [window_from:window_to]
set key outside right top vertical
plot f using (strcol(5) eq 'run' ? ($3 + $4) / 2 : NaN):1:(($4 - $3) / 2):(0.38):ytic(2) with boxxyerror fs solid 0.85 noborder lc rgb '#1f4e79' title 'thread run', \
     f using (strcol(5) eq 'fiber' ? ($3 + $4) / 2 : NaN):1:(($4 - $3) / 2):(0.3):ytic(2) with boxxyerror fs solid 0.85 noborder lc rgb '#2ca02c' title 'fiber run', \
     f using (strcol(5) eq 'wakeup' ? $3 : NaN):1 with points pt 9 ps 0.9 lc rgb '#d62728' title 'wakeup'
