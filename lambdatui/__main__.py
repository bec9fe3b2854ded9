from lambdatui.cli.main import main

raise SystemExit(main())
