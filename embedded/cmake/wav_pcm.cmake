# wav_pcm_data(<file> <offset var> <length var>): at configure time, checks that <file> is a
# 16 kHz mono 16-bit PCM RIFF/WAVE file and returns where its sample bytes (the "data" chunk)
# lie, so that embed(... OFFSET LENGTH) takes the samples and nothing of the header.
# Walks the chunks rather than assuming the canonical 44-byte header (LIST chunks and
# WAVE_FORMAT_EXTENSIBLE headers move the data).

# Little-endian unsigned integer of `bytes` bytes at `offset` of the hex string `hex`.
function(_wav_uint hex offset bytes out)
  set(value 0)
  math(EXPR last "${bytes} - 1")
  foreach(i RANGE ${last} 0 -1)
    math(EXPR at "(${offset} + ${i}) * 2")
    string(SUBSTRING "${hex}" ${at} 2 byte)
    math(EXPR value "${value} * 256 + 0x${byte}")
  endforeach()
  set(${out} ${value} PARENT_SCOPE)
endfunction()

function(wav_pcm_data file offset_var length_var)
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "${file} not found (set MICRONET_AD_SHARED)")
  endif()
  file(SIZE "${file}" file_size)
  file(READ "${file}" head LIMIT 4096 HEX)  # the chunks before the samples
  string(LENGTH "${head}" head_chars)
  math(EXPR head_bytes "${head_chars} / 2")
  string(SUBSTRING "${head}" 0 8 riff)
  string(SUBSTRING "${head}" 16 8 wave)
  if(NOT riff STREQUAL "52494646" OR NOT wave STREQUAL "57415645")  # "RIFF", "WAVE"
    message(FATAL_ERROR "${file} is not a RIFF/WAVE file")
  endif()
  set(at 12)
  set(have_format FALSE)
  math(EXPR header_end "${at} + 8")
  while(NOT header_end GREATER head_bytes)  # while a chunk header fits in what was read
    math(EXPR id_at "${at} * 2")
    string(SUBSTRING "${head}" ${id_at} 8 id)
    math(EXPR size_at "${at} + 4")
    _wav_uint("${head}" ${size_at} 4 size)
    math(EXPR body "${at} + 8")
    if(id STREQUAL "666d7420")  # "fmt "
      _wav_uint("${head}" ${body} 2 format)
      math(EXPR p "${body} + 2")
      _wav_uint("${head}" ${p} 2 channels)
      math(EXPR p "${body} + 4")
      _wav_uint("${head}" ${p} 4 rate)
      math(EXPR p "${body} + 14")
      _wav_uint("${head}" ${p} 2 bits)
      if(format EQUAL 65534)  # WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
        math(EXPR p "${body} + 24")
        _wav_uint("${head}" ${p} 2 format)
      endif()
      if(NOT format EQUAL 1 OR NOT channels EQUAL 1 OR NOT rate EQUAL 16000 OR NOT bits EQUAL 16)
        message(FATAL_ERROR "${file}: format ${format}, ${channels} channels, ${rate} Hz, ${bits} bits; "
                            "the firmware needs PCM (1), mono, 16000 Hz, 16 bits")
      endif()
      set(have_format TRUE)
    elseif(id STREQUAL "64617461")  # "data"
      if(NOT have_format)
        message(FATAL_ERROR "${file}: data chunk before the fmt chunk")
      endif()
      math(EXPR end "${body} + ${size}")
      if(end GREATER file_size OR size EQUAL 0)
        message(FATAL_ERROR "${file}: data chunk of ${size} bytes at ${body} in a ${file_size}-byte file")
      endif()
      set(${offset_var} ${body} PARENT_SCOPE)
      set(${length_var} ${size} PARENT_SCOPE)
      return()
    endif()
    math(EXPR at "${body} + ${size} + (${size} % 2)")  # chunks are padded to even sizes
    math(EXPR header_end "${at} + 8")
  endwhile()
  message(FATAL_ERROR "${file}: no data chunk in its first ${head_bytes} bytes")
endfunction()
