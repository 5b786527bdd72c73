from flat_app import main

main()
