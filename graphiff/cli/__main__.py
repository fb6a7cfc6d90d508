from graphiff.cli import main

main()
