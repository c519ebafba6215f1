# Build step: turn a Drone.toml-format layout into the C header the pool
# allocator is compiled against (docs/heap-layout-header.md). Run by the
# custom command of comb_add_example(... HEAP_LAYOUT ...):
#
#   cmake -DTOOL=<comb> -DLAYOUT=<Drone.toml> -DOUT=<heap_layout.h>
#         [-DFALLBACK=<checked-in header>] -P heap_layout.cmake
#
# TOOL set: `comb heap header --layout LAYOUT -o OUT`. A layout it rejects
# (pools that do not add up, bad syntax) fails the build with its message.
# If that comb predates the `heap header` command ("unknown command" or
# "unknown subcommand"), or TOOL is empty (a cross build configured by hand),
# the checked-in FALLBACK header is used when there is one (with a notice);
# otherwise the build fails and says what to pass.
get_filename_component(dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
if(TOOL)
  execute_process(COMMAND ${TOOL} heap header --layout ${LAYOUT} -o ${OUT}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 AND EXISTS ${OUT})
    file(TOUCH ${OUT}) # comb leaves an unchanged header untouched: keep the build from re-running us
    return()
  endif()
  if(NOT err MATCHES "unknown (sub)?command")
    string(STRIP "${err}${out}" msg)
    message(FATAL_ERROR "heap layout ${LAYOUT}:\n${msg}")
  endif()
  set(why "${TOOL} has no `heap header` command")
else()
  set(why "COMB_HOST_TOOL is not set")
endif()
if(NOT FALLBACK)
  message(FATAL_ERROR "heap layout ${LAYOUT}: ${why}, and there is no checked-in header for this "
                      "layout. Configure with -DCOMB_HOST_TOOL=<build>/host/comb (a comb with `heap header`).")
endif()
message(STATUS "heap layout ${LAYOUT}: ${why}; using the checked-in ${FALLBACK}")
configure_file(${FALLBACK} ${OUT} COPYONLY)
