"""PyTorch (CPU) reference for bench/tasks.ts: Adam on an MLP 784-128-10,
batch 128, the same model, batch and optimizer as optevo's mnist-mlp task.
Prints one JSON line: {"threads": T, "steps_per_second": S (per CPU second), "wall_steps_per_second": W}.
Usage: python3 bench/torch_mlp.py STEPS THREADS (THREADS 0: PyTorch's default)."""
import json
import sys
import time

import torch

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
if threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
data = torch.rand(8000, 784)
labels = torch.randint(0, 10, (8000,))
loss_fn = torch.nn.CrossEntropyLoss()


def step(i):
    lo = (i * 128) % (8000 - 128)
    x, y = data[lo:lo + 128], labels[lo:lo + 128]
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


for i in range(20):
    step(i)
# CPU time of the process: robust on a shared machine (with one thread it is the time the step took).
t = time.process_time()
w = time.perf_counter()
for i in range(steps):
    step(i)
dt = time.process_time() - t
dw = time.perf_counter() - w
print(json.dumps({"threads": torch.get_num_threads(), "steps_per_second": steps / dt, "wall_steps_per_second": steps / dw}))
