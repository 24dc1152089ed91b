print("t5-finetuning: under construction")
