print("gpt-finetuning: under construction")
