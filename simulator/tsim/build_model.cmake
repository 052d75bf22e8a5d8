# Builds one Verilated model of the core at BUILD time (cmake -P), for one generated vta_pkg.sv.
#
# Inputs (-D): VERILATOR, PKG (generated vta_pkg.sv), RTL ("|"-separated .sv files, packages first),
#   CACHE_DIR (hardware/cache), OUT_DIR (per-config output), PREFIX (model class name), TRACE (ON/OFF:
#   --trace-fst, and the synthesis forms of the arithmetic), RUNTIME (ON/OFF: also archive Verilator's runtime), THREADS, JOBS, MAKE, AR, CXX (compiler
#   for the generated C++), STAMP (file touched when done); optional ASSERT (ON: verilate with --assert, so
#   the RTL's SVA assertions are checked while the model runs); optional PIC (ON: position-independent code,
#   for the shared objects tsim builds on demand for configs without a prebuilt model, src/on_demand.cpp);
#   optional NATIVE (ON: the model's C++ for this machine's CPU, -march=native; the model never leaves the
#   machine that built it); optional PGO (GEN: the model instrumented for profile-guided optimization, its
#   counts written next to its objects when a program linked with it exits; USE: the model recompiled from
#   those counts, simulator/tsim/pgo/README.md).
#
# Verilator runs in CACHE_DIR/<config hash>/<PREFIX>/, so a model is verilated and compiled once per
# hardware config (the hash is CONFIG_HASH of the package = HwConfig::hash()); the results are copied
# (only when they changed) to OUT_DIR:
#   OUT_DIR/lib<PREFIX>.a             the model
#   OUT_DIR/libvta_verilated.a        Verilator's runtime (verilated.cpp, threads, FST writer if TRACE)
#   OUT_DIR/include/<PREFIX>.h        the model's header
#   OUT_DIR/include/<PREFIX>_hash.h   #define VTA_TSIM_MODEL_HASH "<hash>"
cmake_minimum_required(VERSION 3.25)

foreach(v VERILATOR PKG RTL CACHE_DIR OUT_DIR PREFIX RUNTIME THREADS JOBS MAKE AR CXX STAMP)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "build_model.cmake: -D${v} is required")
  endif()
endforeach()
string(REPLACE "|" ";" rtl "${RTL}")

file(STRINGS ${PKG} line REGEX "CONFIG_HASH = 64'h")
string(REGEX MATCH "64'h([0-9a-fA-F]+)" _ "${line}")
set(hash ${CMAKE_MATCH_1})
if(hash STREQUAL "")
  message(FATAL_ERROR "build_model.cmake: no CONFIG_HASH in ${PKG}")
endif()

# The traced model also simulates the synthesis forms of the arithmetic (+define+VTA_SYNTH_ARITH,
# hardware/rtl/vta_hw_pkg.sv): its waveforms show the datapath the FPGA gets, and tests run programs on it.
set(trace_args)
if(TRACE)
  set(trace_args --trace-fst --trace-structs +define+VTA_SYNTH_ARITH)
endif()
set(assert_args)
if(ASSERT)
  set(assert_args --assert)
endif()
set(pic_cflags)
set(runtime_cflags "-w")
if(PIC)
  set(pic_cflags -CFLAGS -fPIC)
  set(runtime_cflags "-w -fPIC")
endif()
set(mdir ${CACHE_DIR}/${hash}/${PREFIX})
file(MAKE_DIRECTORY ${mdir})

# -O3/-x-assign/-x-initial for speed (DESIGN.md §4); the C++ of the model is compiled with -O2 (Verilator's
# default -Os is markedly slower to simulate). Verilator skips itself when sources and outputs are unchanged.
set(opt_fast "-O2")
set(opt_slow "-O1")
set(opt_global "-O2")
if(NATIVE)
  string(APPEND opt_fast " -march=native")
endif()
if(PGO STREQUAL "GEN")
  set(profile " -fprofile-generate -fprofile-update=single")
elseif(PGO STREQUAL "USE")
  # partial training: code the training set never ran is optimized as usual, not for size
  set(profile " -fprofile-use -fprofile-partial-training -Wno-missing-profile")
elseif(DEFINED PGO AND NOT PGO STREQUAL "" AND NOT PGO STREQUAL "OFF")
  message(FATAL_ERROR "build_model.cmake: PGO must be GEN, USE or OFF, not ${PGO}")
else()
  set(profile "")
endif()
foreach(v opt_fast opt_slow opt_global)
  string(APPEND ${v} "${profile}")
endforeach()
set(make_flags "OPT_FAST=${opt_fast}" "OPT_SLOW=${opt_slow}" "OPT_GLOBAL=${opt_global}" "CXX=${CXX}")
# Without PGO Verilator builds the model itself (--build; it hands -MAKEFLAGS to a shell, hence the quotes).
# With PGO the objects are rebuilt every time in the same directory (the counts sit next to them, and make
# would keep objects built with the other flags).
set(build_args --build -j ${JOBS} -MAKEFLAGS
    "OPT_FAST='${opt_fast}' OPT_SLOW='${opt_slow}' OPT_GLOBAL='${opt_global}' CXX=${CXX}")
if(profile)
  set(build_args)
endif()
execute_process(
  COMMAND ${VERILATOR} --cc ${build_args} -O3 --x-assign fast --x-initial fast -Wno-fatal
          --top-module vta_top --prefix ${PREFIX} --Mdir ${mdir} --threads ${THREADS} ${trace_args} ${assert_args}
          -CFLAGS -w ${pic_cflags}
          ${PKG} ${rtl}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "verilator failed (${rc}) in ${mdir}:\n${out}")
endif()
if(profile)
  file(GLOB objects ${mdir}/*.o ${mdir}/*.a)
  if(PGO STREQUAL "GEN")
    file(GLOB counts ${mdir}/*.gcda)  # a new instrumented model: the old counts do not describe it
    list(APPEND objects ${counts})
  endif()
  if(objects)
    file(REMOVE ${objects})
  endif()
  execute_process(
    COMMAND ${MAKE} -C ${mdir} -f ${PREFIX}.mk -j ${JOBS} ${make_flags} ${PREFIX}__ALL.a
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compiling the model (PGO ${PGO}) failed (${rc}) in ${mdir}:\n${out}")
  endif()
endif()

file(MAKE_DIRECTORY ${OUT_DIR}/include)
if(RUNTIME)
  # Verilator's runtime objects for this model's options, as one archive.
  file(WRITE ${mdir}/vta_runtime.mk
    "include ${PREFIX}.mk\nlibvta_verilated.a: $(VK_GLOBAL_OBJS)\n\t${AR} rcs $@ $^\n")
  execute_process(
    COMMAND ${MAKE} -C ${mdir} -f vta_runtime.mk -j ${JOBS} OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2 CXX=${CXX}
            "VM_USER_CFLAGS=${runtime_cflags}" libvta_verilated.a
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building Verilator's runtime failed (${rc}) in ${mdir}:\n${out}")
  endif()
  file(COPY_FILE ${mdir}/libvta_verilated.a ${OUT_DIR}/libvta_verilated.a ONLY_IF_DIFFERENT)
endif()
file(COPY_FILE ${mdir}/${PREFIX}__ALL.a ${OUT_DIR}/lib${PREFIX}.a ONLY_IF_DIFFERENT)
file(COPY_FILE ${mdir}/${PREFIX}.h ${OUT_DIR}/include/${PREFIX}.h ONLY_IF_DIFFERENT)
set(text "#pragma once\n#define VTA_TSIM_MODEL_HASH \"${hash}\"\n")
set(old "")
if(EXISTS ${OUT_DIR}/include/${PREFIX}_hash.h)
  file(READ ${OUT_DIR}/include/${PREFIX}_hash.h old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT_DIR}/include/${PREFIX}_hash.h "${text}")
endif()
file(TOUCH ${STAMP})
