from edgesim.cli import main

raise SystemExit(main())
