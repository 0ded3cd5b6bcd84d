# Runs `neco-studio --screenshot` on a fresh demo folder and checks a non-trivial PNG came out; then
# with --checkpoint: a checkpoint that loads (the log names the model), and a refused one (the error
# dialog is in the PNG, the log names the reason); with --train-steps: a short demo run trained in the
# studio, the views on its weights; also checks that bad options (--opacity, --steepness, --network,
# --train-steps) are refused with exit status 2.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(ENV{XDG_STATE_HOME} "${WORK}/state")
set(ENV{XDG_DATA_HOME} "${WORK}/data")
set(ENV{XDG_CONFIG_HOME} "${WORK}/config")  # the recent-checkpoints list
set(ENV{QT_QPA_PLATFORM} "xcb")
execute_process(COMMAND ${XVFB_RUN} -a -s "-screen 0 1920x1200x24" ${STUDIO} --demo-dir ${WORK}/demo
                        --screenshot ${WORK}/shot.png --patch 6,8 --window-size 1100x760
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "neco-studio --screenshot failed (${rc}):\n${out}\n${err}")
endif()
if(NOT EXISTS "${WORK}/shot.png")
  message(FATAL_ERROR "no screenshot written")
endif()
file(SIZE "${WORK}/shot.png" size)
if(size LESS 20000)
  message(FATAL_ERROR "screenshot suspiciously small (${size} bytes)")
endif()
if(NOT EXISTS "${WORK}/demo/JPEGImages" OR NOT EXISTS "${WORK}/state/neco-studio/logs/neco.log")
  message(FATAL_ERROR "first run did not create the demo dataset and the log file")
endif()
set(log "${WORK}/state/neco-studio/logs/neco.log")
foreach(case IN ITEMS "loaded;vit/dinov2_reg4.safetensors;model: dinov2_reg4.safetensors, DINOv2 ViT/14, 4 registers"
                      "refused;malformed/torch/os-system.pth;unsupported object `posix.system`")
  list(GET case 0 name)
  list(GET case 1 file)
  list(GET case 2 expected)
  execute_process(COMMAND ${XVFB_RUN} -a -s "-screen 0 1920x1200x24" ${STUDIO} --demo-dir ${WORK}/demo
                          --checkpoint ${DATA}/${file} --screenshot ${WORK}/${name}.png --window-size 1100x760
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${WORK}/${name}.png")
    message(FATAL_ERROR "neco-studio --checkpoint ${file} --screenshot failed (${rc}):\n${out}\n${err}")
  endif()
  file(READ "${log}" text)
  string(FIND "${text}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "the log of --checkpoint ${file} lacks '${expected}':\n${text}")
  endif()
endforeach()
# --train-steps: the demo trains in the studio (Train > Train on the Demo) and the shot shows the
# views on the finished run's weights, with the Training dock.
execute_process(COMMAND ${XVFB_RUN} -a -s "-screen 0 1920x1200x24" ${STUDIO} --demo-dir ${WORK}/demo
                        --train-steps 3 --screenshot ${WORK}/training.png --patch 6,8 --window-size 1100x760
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
if(NOT rc EQUAL 0 OR NOT EXISTS "${WORK}/training.png")
  message(FATAL_ERROR "neco-studio --train-steps 3 --screenshot failed (${rc}):\n${out}\n${err}")
endif()
file(READ "${log}" text)
foreach(expected IN ITEMS "training finished: 3 steps" "model: student of ")
  string(FIND "${text}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "the log of --train-steps 3 lacks '${expected}':\n${text}")
  endif()
endforeach()
file(GLOB runs "${WORK}/state/neco-studio/runs/*/checkpoints/step-000000000003")
if(NOT runs)
  message(FATAL_ERROR "--train-steps 3 left no checkpoint of step 3 under ${WORK}/state/neco-studio/runs")
endif()
execute_process(COMMAND ${STUDIO} --opacity 7 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "opacity")
  message(FATAL_ERROR "bad --opacity should exit 2 with a message, got ${rc}: ${err}")
endif()
foreach(bad IN ITEMS "--steepness;0.5" "--steepness;100,2000" "--network;quicksort" "--train-steps;-1")
  execute_process(COMMAND ${STUDIO} ${bad} RESULT_VARIABLE rc ERROR_VARIABLE err)
  list(GET bad 0 option)
  string(SUBSTRING "${option}" 2 -1 name)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "${name}")
    message(FATAL_ERROR "bad ${bad} should exit 2 with a message, got ${rc}: ${err}")
  endif()
endforeach()
message(STATUS "screenshot ok (${size} bytes)")
