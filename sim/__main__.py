from sim import main

main()
