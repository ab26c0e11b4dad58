#!/usr/bin/env python3
# The expected values of Aiex's MPNet tests: a NumPy transcription of transformers'
# modeling_mpnet.py (embeddings with positions from 2, T5-style relative position buckets
# shared by all layers, post-LayerNorm layers, erf GELU), then sentence-transformers' mean
# pooling. Needs numpy; with a model directory, also safetensors and tokenizers.
#
#   scripts/mpnet-reference.py       a two-layer model whose weights follow a formula:
#                                    both rows' mean-pooled hidden states
#                                    (node/src/embed/mpnet.rs, forward test)
#   scripts/mpnet-reference.py DIR   the real model in DIR (all-mpnet-base-v2): the first
#                                    six dimensions of the unit vector of "hello world"
#                                    (tests/tests/embed_search.rs)
import numpy as np, math, sys
V,Hd,H,NL,I,P=20,8,2,2,16,40
eps=1e-5
shapes={'embeddings.word_embeddings.weight':(V,Hd),'embeddings.position_embeddings.weight':(P,Hd),
 'embeddings.LayerNorm.weight':(Hd,),'embeddings.LayerNorm.bias':(Hd,),'encoder.relative_attention_bias.weight':(32,H)}
for i in range(NL):
    p=f'encoder.layer.{i}.'
    for n in 'qkvo':
        shapes[p+f'attention.attn.{n}.weight']=(Hd,Hd); shapes[p+f'attention.attn.{n}.bias']=(Hd,)
    shapes[p+'attention.LayerNorm.weight']=(Hd,); shapes[p+'attention.LayerNorm.bias']=(Hd,)
    shapes[p+'intermediate.dense.weight']=(I,Hd); shapes[p+'intermediate.dense.bias']=(I,)
    shapes[p+'output.dense.weight']=(Hd,I); shapes[p+'output.dense.bias']=(Hd,)
    shapes[p+'output.LayerNorm.weight']=(Hd,); shapes[p+'output.LayerNorm.bias']=(Hd,)
W={}
real=len(sys.argv)>1
for name,sh in ([] if real else shapes.items()):
    n=int(np.prod(sh)); v=np.array([0.5*math.sin(0.7*(j+1)+len(name)) for j in range(n)],dtype=np.float64).reshape(sh)
    if 'LayerNorm.weight' in name: v=v+1.0
    W[name]=v
def ln(x,p):
    m=x.mean(-1,keepdims=True); v=((x-m)**2).mean(-1,keepdims=True); return (x-m)/np.sqrt(v+eps)*W[p+'.weight']+W[p+'.bias']
def lin(x,p): return x@W[p+'.weight'].T+W[p+'.bias']
def bucket(rel,nb=32,md=128):
    ret=0;n=-rel;nb//=2
    ret+= (1 if n<0 else 0)*nb
    n=abs(n);me=nb//2
    if n<me: return ret+n
    return ret+min(me+int(math.log(n/me)/math.log(md/me)*(nb-me)),nb-1)
verf=np.vectorize(math.erf)
if real:
    import json
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
    W={k:v.astype(np.float64) for k,v in load_file(sys.argv[1]+'/model.safetensors').items()}
    cfg=json.load(open(sys.argv[1]+'/config.json'))
    H,NL,eps=cfg['num_attention_heads'],cfg['num_hidden_layers'],cfg['layer_norm_eps']
    Hd=cfg['hidden_size']
def run(ids):
    ids=np.array(ids); L=len(ids); pos=np.arange(L)+2
    x=ln(W['embeddings.word_embeddings.weight'][ids]+W['embeddings.position_embeddings.weight'][pos],'embeddings.LayerNorm')
    hd=Hd//H
    B=np.array([[bucket(k-q) for k in range(L)] for q in range(L)])
    bias=W['encoder.relative_attention_bias.weight'][B].transpose(2,0,1)
    for i in range(NL):
        p=f'encoder.layer.{i}.'
        q=lin(x,p+'attention.attn.q').reshape(L,H,hd).transpose(1,0,2)
        k=lin(x,p+'attention.attn.k').reshape(L,H,hd).transpose(1,0,2)
        v=lin(x,p+'attention.attn.v').reshape(L,H,hd).transpose(1,0,2)
        s=q@k.transpose(0,2,1)/math.sqrt(hd)+bias
        s=np.exp(s-s.max(-1,keepdims=True)); s/=s.sum(-1,keepdims=True)
        c=(s@v).transpose(1,0,2).reshape(L,-1)
        a=ln(lin(c,p+'attention.attn.o')+x,p+'attention.LayerNorm')
        h=lin(a,p+'intermediate.dense'); h=0.5*h*(1+verf(h/math.sqrt(2)))
        x=ln(lin(h,p+'output.dense')+a,p+'output.LayerNorm')
    return x.mean(0)
if real:
    enc=Tokenizer.from_file(sys.argv[1]+'/tokenizer.json').encode('hello world')
    v=run([i for i,m in zip(enc.ids,enc.attention_mask) if m])
    print(', '.join(f'{x:.6}' for x in (v/np.linalg.norm(v))[:6]))
    sys.exit(0)
row0=[0]+[(3*j)%17+3 for j in range(18)]+[2]
row1=[0]+[(5*j)%13+3 for j in range(10)]+[2]
print(len(row0),row0); print(len(row1),row1)
for r in (row0,row1): print(', '.join(f'{x:.6}' for x in run(r)))
