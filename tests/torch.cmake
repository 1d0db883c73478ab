# Cross-check of the loss kernels with -inf masks against PyTorch (tests/loss_torch_check.py,
# driving the shared library through ctypes). Always registered; it reports SKIP (exit 77)
# with the reason when it cannot run: no /usr/bin/python3, PyTorch not importable (Debian
# package python3-torch, checked by the script), a static library (ctypes needs the shared
# one), a sanitized one (python cannot load it) or one cross-compiled for another target.
set(LN_TORCH_SKIP "")
if(NOT EXISTS /usr/bin/python3)
  set(LN_TORCH_SKIP "/usr/bin/python3 not found")
elseif(NOT BUILD_SHARED_LIBS)
  set(LN_TORCH_SKIP "static build: ctypes needs the shared library")
elseif(LOGITNORM_SANITIZE)
  set(LN_TORCH_SKIP "sanitized build (${LOGITNORM_SANITIZE}): python cannot load the library")
elseif(CMAKE_CROSSCOMPILING)
  set(LN_TORCH_SKIP "cross build: the host's python cannot load the target's library")
endif()
if(LN_TORCH_SKIP STREQUAL "")
  add_test(NAME torch.loss_masks_crosscheck
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/loss_torch_check.py" "$<TARGET_FILE:logitnorm>")
else()
  add_test(NAME torch.loss_masks_crosscheck COMMAND sh -c "echo 'SKIP: ${LN_TORCH_SKIP}'; exit 77")
endif()
set_tests_properties(torch.loss_masks_crosscheck PROPERTIES LABELS "crosscheck" SKIP_RETURN_CODE 77 TIMEOUT 300)
