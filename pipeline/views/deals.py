"""Deal pages: a deal's own page, its edits and activities, and the won and lost lists."""
