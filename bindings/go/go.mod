module libkeel.org/keel

go 1.19
