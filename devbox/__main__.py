from devbox.launch import main

main()
