from devbox.cli import main

main()
