# Script mode (cmake -P), run at build time: turns the host's `micronet-ad score --profile P
# --format json CLIP.wav` output (one clip) into a .cc holding its per-window distances and their
# clip distance ("distance": their mean, or the mean embedding's, as the profile says) as doubles
# (the JSON has 17 significant digits, so they are the host's values exactly).
#   cmake -DIN=<scores.json> -DOUT=<file.cc> -P embed_distances.cmake
# Defines `extern const double kHostDistances[]`, `extern const std::size_t kHostDistances_count`
# and `extern const double kHostClipDistance`.
foreach(var IN ITEMS IN OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_distances.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "embed_distances.cmake: ${IN} not found (scripts/embedded.sh writes it)")
endif()
file(READ "${IN}" json)
string(JSON clips LENGTH "${json}" clips)
if(NOT clips EQUAL 1)
  message(FATAL_ERROR "embed_distances.cmake: ${IN} scores ${clips} clips, expected 1")
endif()
string(JSON method GET "${json}" clips 0 score_method)
if(NOT method STREQUAL "distance")
  message(FATAL_ERROR "embed_distances.cmake: ${IN} scores by ${method}, expected distance (score --profile)")
endif()
string(JSON path GET "${json}" clips 0 path)
string(JSON profile GET "${json}" clips 0 profile)
string(JSON mean GET "${json}" clips 0 distance)
string(JSON n LENGTH "${json}" clips 0 window_scores)
if(n LESS 1)
  message(FATAL_ERROR "embed_distances.cmake: ${IN} has no window scores")
endif()
set(values "")
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON v GET "${json}" clips 0 window_scores ${i})
  string(APPEND values "    ${v},\n")
endforeach()
get_filename_component(in_name "${IN}" NAME)
get_filename_component(clip_name "${path}" NAME)
file(WRITE "${OUT}.tmp"
"// Generated at build time by embedded/cmake/embed_distances.cmake from ${in_name}: the host's
// distances of the ${n} windows of ${clip_name} from profile '${profile}'. Do not edit, do not commit.
#include <cstddef>
extern const double kHostDistances[] = {
${values}};
extern const std::size_t kHostDistances_count = ${n};
extern const double kHostClipDistance = ${mean};
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
