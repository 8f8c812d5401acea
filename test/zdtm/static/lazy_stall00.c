/* lazy_stall00: lazy_kill00 under lazy=stall (tests.desc): the server stops answering. */
#include "lazy_kill00.c"
