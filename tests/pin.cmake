# Pinned loss results (tests/test_loss_pinned.c): the suite and the generator pin_gen share the
# case list and runner in tests/pin/, and read or write tests/data/loss_pin_<path>.txt.
# pin_gen is built with the tests but is no test: `cmake --build <build> --target loss_pin_data`
# writes both files again from the library as built (x86-64, a CPU with AVX2 and FMA).
set(LN_PIN_DIR "${CMAKE_CURRENT_SOURCE_DIR}/pin")
set(LN_PIN_DATA_DIR "${CMAKE_CURRENT_SOURCE_DIR}/data")

target_sources(test_loss_pinned PRIVATE "${LN_PIN_DIR}/pin_cases.c")
target_include_directories(test_loss_pinned PRIVATE "${LN_PIN_DIR}")
target_compile_definitions(test_loss_pinned PRIVATE "LN_PIN_DATA_DIR=\"${LN_PIN_DATA_DIR}\"")

add_executable(pin_gen "${LN_PIN_DIR}/pin_gen.c" "${LN_PIN_DIR}/pin_cases.c")
target_include_directories(pin_gen PRIVATE "${LN_PIN_DIR}")
target_compile_definitions(pin_gen PRIVATE "LN_PIN_DATA_DIR=\"${LN_PIN_DATA_DIR}\"")
target_link_libraries(pin_gen PRIVATE ln_test_support logitnorm_warnings)

add_custom_target(loss_pin_data
  COMMAND ${CMAKE_COMMAND} -E env LOGITNORM_DISPATCH=generic $<TARGET_FILE:pin_gen>
  COMMAND ${CMAKE_COMMAND} -E env LOGITNORM_DISPATCH=avx2 $<TARGET_FILE:pin_gen>
  DEPENDS pin_gen
  COMMENT "Writing tests/data/loss_pin_generic.txt and loss_pin_avx2.txt"
  VERBATIM)
