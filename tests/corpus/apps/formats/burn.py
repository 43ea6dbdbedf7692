import time

def parse_records(n):
    return [str(i * 7) for i in range(n)]

def checksum(rows):
    h = 0
    for r in rows:
        for c in r:
            h = (h * 31 + ord(c)) & 0xFFFFFFFF
    return h

def slow_sort(a):
    a = list(a)
    for i in range(len(a)):
        for j in range(len(a) - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
    return a

def main():
    end = time.time() + 2.0
    total = 0
    while time.time() < end:
        rows = parse_records(20000)
        total += checksum(rows)
        total += slow_sort(range(300, 0, -1))[0]
        time.sleep(0.01)
    print(total)

main()
