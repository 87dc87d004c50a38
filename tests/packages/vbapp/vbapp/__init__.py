import vbdep


def main():
    print(vbdep.greet("vbapp"))
