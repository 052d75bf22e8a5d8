# Optional parts of the build (the RTL simulation, the ONNX front end, the Python cross-checks) are left
# out with a message when what they need is not installed. CI must not pass by leaving them out:
# with VTA_REQUIRE_ALL=ON (scripts/test.sh sets it) a missing dependency stops the configure step.
option(VTA_REQUIRE_ALL "Fail the configure step instead of leaving out tests whose dependencies are missing" OFF)

# vta_optional_missing(<what is left out> <why>): a status message, or a fatal error under VTA_REQUIRE_ALL.
function(vta_optional_missing what why)
  if(VTA_REQUIRE_ALL)
    message(FATAL_ERROR "${what} cannot be built: ${why} (VTA_REQUIRE_ALL is ON; run scripts/setup.sh)")
  else()
    message(STATUS "${what}: left out (${why})")
  endif()
endfunction()
