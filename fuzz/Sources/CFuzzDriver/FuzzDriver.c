// The header only declares libFuzzer's driver; this file makes the directory a C target.
#include "CFuzzDriver.h"
