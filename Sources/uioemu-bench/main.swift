print("uioemu-bench: see the benchmark floors")
