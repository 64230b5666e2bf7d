import os,sys,re,collections
pid=sys.argv[1]; c=collections.Counter()
for t in os.listdir(f'/proc/{pid}/task'):
    try: s=open(f'/proc/{pid}/task/{t}/stat').read()
    except: continue
    name=s[s.index('(')+1:s.rindex(')')]; f=s[s.rindex(')')+2:].split()
    c[re.sub(r'\d+','N',name)]+= (int(f[11])+int(f[12]))*10
for k,v in c.most_common(12): print(v,'ms',k)
