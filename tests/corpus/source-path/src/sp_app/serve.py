from sp_app import main

main()
