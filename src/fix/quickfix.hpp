// fix/quickfix.hpp — the one place tickrt includes QuickFIX's headers.
//
// Why this file exists: Debian's libquickfix-dev 1.15.1 headers declare dynamic exception
// specifications (`void f() throw( FieldNotFound );`), which C++17 removed: g++ 12 with
// -std=c++20 rejects them as hard errors. The library itself was compiled with them, but before
// C++17 exception specifications were not part of a function's type or mangled name, so
// dropping them while parsing the headers changes no symbol and no layout. We therefore
//  1. include every standard and POSIX header QuickFIX's headers include, with the real
//     `throw` keyword (their include guards then keep them from being re-read below), and
//  2. parse QuickFIX's headers with `throw(...)` defined away (only the specifications use the
//     `throw(` spelling; throw-expressions in them read `throw Foo(...)`), then restore it.
// Every file in src/fix/ and tests/fix/ includes this header instead of <quickfix/...>.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <numeric>
#include <queue>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#pragma push_macro("throw")
#define throw(...)
#include <quickfix/Acceptor.h>
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Log.h>
#include <quickfix/Message.h>
#include <quickfix/NullStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/ThreadedSocketConnection.h>
#include <quickfix/Values.h>
#pragma pop_macro("throw")
