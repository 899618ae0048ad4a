import markdown

print(markdown.markdown("# ok"))
